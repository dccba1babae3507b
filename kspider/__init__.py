"""kspider: industrial-park news and factory rental ads around Suzhou, Kunshan, Taicang and Jiading."""
