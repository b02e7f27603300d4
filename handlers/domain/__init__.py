"""The domain core: the subdistrict model, schedule rules, working time and the ticket state
machine (tickets.py, with who may act in actors.py).

Channel-neutral and free of I/O; like the rest of handlers/ it imports nothing from bot/."""
