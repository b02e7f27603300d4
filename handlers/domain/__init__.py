"""The domain core: the subdistrict model, schedule rules and working time.

Channel-neutral; like the rest of handlers/ it imports nothing from bot/."""
