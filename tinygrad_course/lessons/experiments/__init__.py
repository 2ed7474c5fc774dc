"""The lecture's experiments, one module each, each with run(out_dir, quick=False, seed=0)."""
