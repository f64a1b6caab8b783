"""The learning loop's pure ML core: train components on gold rows, save, load, merge with the rules, evaluate."""
