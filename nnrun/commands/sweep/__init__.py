"""``nnrun sweep``: a hyperparameter search whose trials are ordinary runs.

    space.py      the trials of a grid or random search, fixed by the seed
    search.py     the next trial, and whether to stop one (Optuna for tpe and schedulers)
    tpe_sampler.py  Optuna's TPE, its draws seeded per trial
    trial.py      one trial in-process: train or resume trials/<id>/
    worker.py     a local trial process; local.py runs `workers` of them at once
    ray_executor.py  the same trials on Ray Tune
    trials.py     trials.csv;  directory.py  the sweep directory;  runner.py  the whole sweep
    stopping.py   SIGINT and SIGTERM stop a sweep as Ctrl-C does, on either executor
"""
