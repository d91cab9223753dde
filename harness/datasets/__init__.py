"""Data sets: takes a seed or another format and hands on DBN MBO files. The synthetic
generator (`synth`), the LOBSTER import (`lobster`), and the embedded default file that
`mbobench run` measures when no file is named (`default`, generated once into the cache)."""
