import sys

from .cli import main

if __name__ == "__main__":  # not again in a Dask or multiprocessing child that imports it
    sys.exit(main())
