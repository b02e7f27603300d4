"""The staff workplace (工作台) on the web: sign-in by one-time link, the ticket board, the ticket
page, the overdue board. Mounted on the bot's own HTTP server under /staff/ (bot/web/app.py)."""

from bot.web.app import mount_workplace

__all__ = ["mount_workplace"]
