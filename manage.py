#!/usr/bin/env python
"""Django's command-line utility for Zhucheng (use ``./zc manage`` rather than calling it directly)."""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhucheng.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
