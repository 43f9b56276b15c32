# Throughput and p99 latency against concurrency (run-matrix.sh writes the
# data file: concurrency, then 5 throughput columns, then the 5 matching p99
# columns). Usage: gnuplot -e "datafile='...'; outfile='...'" plot.gp
set terminal pngcairo size 1100,460 font ",10"
set output outfile
set multiplot layout 1,2 title "cqlmux select against the null mock server (1 connection per I/O thread; log scales)"
set logscale x 2
set xtics ("1" 1, "128" 128, "4096" 4096)
set xlabel "requests in flight"
set grid
set key top left
set logscale y
set ylabel "requests / s"
set title "throughput"
plot datafile using 1:2 with linespoints lw 2 title "driver v4", \
     datafile using 1:3 with linespoints lw 2 title "driver v5", \
     datafile using 1:4 with linespoints dt 2 lw 2 title "raw v4", \
     datafile using 1:5 with linespoints dt 2 lw 2 title "raw v5", \
     datafile using 1:6 with linespoints lw 2 title "driver v5, 2 I/O threads"
set ylabel "microseconds"
set title "p99 latency"
plot datafile using 1:7 with linespoints lw 2 title "driver v4", \
     datafile using 1:8 with linespoints lw 2 title "driver v5", \
     datafile using 1:9 with linespoints dt 2 lw 2 title "raw v4", \
     datafile using 1:10 with linespoints dt 2 lw 2 title "raw v5", \
     datafile using 1:11 with linespoints lw 2 title "driver v5, 2 I/O threads"
unset multiplot
