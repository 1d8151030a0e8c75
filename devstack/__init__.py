"""Development stack: the launcher behind ./bin/run and the private Redis it starts."""
