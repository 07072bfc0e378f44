# Shared by the bench/*.sh runners (sourced).
# field NAME FILE: the first numeric value of "NAME": in a `weir run --stats-json` file.
field() { grep -o "\"$1\": [0-9.e+-]*" "$2" | head -1 | cut -d' ' -f2; }
# machine: "N cores, CPU model, date" for the heading of a results table.
machine() { echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(date -u +%Y-%m-%d)"; }
