"""Formats of what the commands show: calendar views, sync reports, times."""
