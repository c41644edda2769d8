"""Engines that grade a class's tasks: `local` (a thread pool on this machine, the default) and
`dask_engine` (the workers of a Dask cluster). Both run `task.grade_task` on the same task data;
the command writes every output. Import from the modules (`from autograder.engines.task import
...`): `dask_engine` and `worker_cmd` import `distributed`, which nothing else needs."""
