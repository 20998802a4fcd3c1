#!/usr/bin/env bash
# Draws a load-tester run saved with `save gen [NAME] PATH`: the rates over
# time (target, achieved connections and requests per second, p99 latency
# on a second axis) and the request-latency CDF, side by side in PATH.png.
#
#   scripts/plot-gen.sh PATH        # reads PATH.series.csv and PATH.latency.csv
#
# Needs gnuplot (scripts/install-deps.sh installs gnuplot-nox).
set -euo pipefail
path=${1:-}
path=${path%.json}
if [ -z "$path" ] || [ ! -f "$path.series.csv" ] || [ ! -f "$path.latency.csv" ]; then
  echo "usage: $0 PATH (with PATH.series.csv and PATH.latency.csv from 'save gen')" >&2
  exit 2
fi
command -v gnuplot >/dev/null || { echo "plot-gen: gnuplot is not installed (scripts/install-deps.sh)" >&2; exit 1; }
title=$(basename "$path")
gnuplot <<GP
set terminal pngcairo size 1400,500 noenhanced font ",10"
set output "$path.png"
set datafile separator ","
set key top left
set multiplot layout 1,2 title "$title"
set title "rate over time"
set xrange [0:*]
set xlabel "seconds"
set ylabel "per second"
set y2label "p99 latency (us)"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
plot "$path.series.csv" using 1:2 skip 1 with lines dashtype 2 title "target", \
     "" using 1:3 skip 1 with linespoints title "conn/s", \
     "" using 1:4 skip 1 with linespoints title "req/s", \
     "" using 1:15 skip 1 axes x1y2 with lines title "p99 (us)"
set title "request latency CDF"
set xlabel "latency (us)"
set ylabel "fraction of requests"
unset y2label
unset y2tics
set logscale x
set yrange [0:1]
plot "$path.latency.csv" using 1:2 skip 1 with steps title "requests"
unset multiplot
GP
echo "plot-gen: wrote $path.png"
