package bench

import (
	"fmt"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"github.com/tripletmine/triplet"
)

// WritePlot draws the time per call against n on log-log axes, one line
// per implementation and strategy (colour by implementation, dashes and
// marks by strategy), into file; the file's extension picks the format
// (.svg, .png, .pdf, ...).
func WritePlot(file string, rows []Row) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("forward + backward, d=%d, %d rows per class, Euclidean",
		Dim, ClassSize)
	p.X.Label.Text = "n (rows in the batch)"
	p.Y.Label.Text = "time per call (ms)"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = true, true

	var names []string
	var strategies []triplet.Strategy
	var sizes []int
	for _, r := range rows {
		if !slices.Contains(names, r.Name()) {
			names = append(names, r.Name())
		}
		if !slices.Contains(strategies, r.Strategy) {
			strategies = append(strategies, r.Strategy)
		}
		if !slices.Contains(sizes, r.N) {
			sizes = append(sizes, r.N)
		}
	}
	slices.Sort(sizes)
	var ticks []plot.Tick
	for _, n := range sizes {
		ticks = append(ticks, plot.Tick{Value: float64(n), Label: strconv.Itoa(n)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)

	for i, name := range names {
		for j, s := range strategies {
			var points plotter.XYs
			for _, r := range rows {
				if r.Name() == name && r.Strategy == s {
					points = append(points, plotter.XY{X: float64(r.N),
						Y: r.PerCall.Seconds() * 1e3})
				}
			}
			slices.SortFunc(points, func(a, b plotter.XY) int { return int(a.X - b.X) })
			line, marks, err := plotter.NewLinePoints(points)
			if err != nil {
				return fmt.Errorf("plot of %s %v: %w", name, s, err)
			}
			line.Color, marks.Color = plotutil.Color(i), plotutil.Color(i)
			line.Dashes = plotutil.Dashes(j)
			marks.Shape = plotutil.Shape(j)
			p.Add(line, marks)
			p.Legend.Add(fmt.Sprintf("%s %v", name, s), line, marks)
		}
	}
	return p.Save(8*vg.Inch, 6*vg.Inch, file)
}
