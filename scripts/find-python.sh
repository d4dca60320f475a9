#!/usr/bin/env bash
# Print the path of a Python >= 3.12 (Django 6.1 needs it), or explain what to install.
for candidate in python3.12 python3.13 python3.14 \
  /root/.pyenv/versions/3.12*/bin/python3 /root/.pyenv/versions/3.13*/bin/python3 python3; do
  path=$(command -v "$candidate" 2>/dev/null) || continue
  if "$path" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    echo "$path"
    exit 0
  fi
done
cat >&2 <<'MSG'
Triage needs Python 3.12 or newer (Django 6.1 does), with its venv module, and none was found.
Install one, for example:  apt-get install python3.12 python3.12-venv   or   pyenv install 3.12
then run make again (or point to it: make PYTHON=/path/to/python3.12 ...).
MSG
exit 1
