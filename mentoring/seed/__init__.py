"""
The generated data sets: the fictional demo built from the case study (``seed_demo``,
``demo.py``) and the London-wide data set for benchmarks and load tests (``seed_scale``,
``scale/``). Only those two commands and the tests use this package; nothing here runs
while the app serves a request.
"""
