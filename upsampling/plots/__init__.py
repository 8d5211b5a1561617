"""The book's figures: one module per chapter, each function pure and tested.

Every ``plot_*`` function computes what it shows with the package's own operations,
draws into the axes it is given (or into a new figure when given none) and returns
them; the book's demos (:mod:`upsampling.widgets`) call the same functions.
"""
