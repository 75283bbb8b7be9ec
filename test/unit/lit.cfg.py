# -*- Python -*-
# The GoogleTest unit tests, run by lit so that one command runs every test.

import lit.formats

config.name = "mlg-unit"
config.suffixes = []
config.test_source_root = config.mlg_unit_dir
config.test_exec_root = config.mlg_unit_dir
config.test_format = lit.formats.GoogleTest(".", "Tests")
