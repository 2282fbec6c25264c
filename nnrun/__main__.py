from nnrun.cli import program

program()
