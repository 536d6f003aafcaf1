"""Speed and memory benchmarks (`make bench`), each a ratio against a bare Starlette
baseline measured in the same run, or an absolute figure where the issue sets one."""
