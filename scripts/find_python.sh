#!/usr/bin/env bash
# Prints the path of a Python interpreter of the version asked for (e.g. 3.10).
set -euo pipefail
want="$1"
root="$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"
for candidate in "$root"/versions/"$want".*/bin/python"$want" /usr/bin/python"$want" /usr/local/bin/python"$want"; do
  if [ -x "$candidate" ] && "$candidate" -c 'import venv' 2>/dev/null; then
    echo "$candidate"
    exit 0
  fi
done
if command -v python"$want" >/dev/null 2>&1 && python"$want" -c 'import venv' 2>/dev/null; then
  command -v python"$want"
  exit 0
fi
echo "Python $want was not found. Rasa 3.6 needs Python 3.10 (pyenv install 3.10); the gateway needs 3.11 or newer." >&2
exit 1
