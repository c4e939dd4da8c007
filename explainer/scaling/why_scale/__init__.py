"""The "why scale" experiment (Szegedy et al. §3.3 at the nets' depth), one feature in one folder.

    trunk_args, trunk, trunk_engine   the miniature Inception-ResNet trunk: arguments, model, step
    training                          train_trunk: one run, with up_init / up_lr on the `up` convs
    reparametrisation                 scale=s as scale=1, up_init=s, up_lr=s**2 (SGD), checked
    experiment, run_store             the grid: its runs, resumable and reused, its files and lock
    grid_workers                      where the runs train: this process or Dask workers
    machine                           the CPU and oneDNN setting each run records
    read, results                     the results file read back (refused before reading if odd)
    verdicts, tables, findings,       the findings in words, each number computed from the file
    decomposition
"""
