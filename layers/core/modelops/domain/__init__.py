"""Pure domain code: plain data in, plain data out. Nothing here touches AWS or the network."""
