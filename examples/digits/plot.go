package main

import (
	"fmt"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// plotCurves writes to file an SVG of two charts side by side: held-out
// Recall@1 and the training loss, per epoch, one line per strategy.
func plotCurves(file string, curves []learningCurve) error {
	recall, loss := plot.New(), plot.New()
	recall.Title.Text, loss.Title.Text = "held-out Recall@1", "training loss"
	for _, p := range []*plot.Plot{recall, loss} {
		p.X.Label.Text = "epoch"
		p.Legend.Top = p == loss
		p.Add(plotter.NewGrid())
	}

	for i, c := range curves {
		recallXY := make(plotter.XYs, len(c.history))
		lossXY := make(plotter.XYs, len(c.history))
		for e, h := range c.history {
			recallXY[e] = plotter.XY{X: float64(e + 1), Y: h.recall}
			lossXY[e] = plotter.XY{X: float64(e + 1), Y: h.loss}
		}
		for _, chart := range []struct {
			p  *plot.Plot
			xy plotter.XYs
		}{{recall, recallXY}, {loss, lossXY}} {
			line, err := plotter.NewLine(chart.xy)
			if err != nil {
				return fmt.Errorf("plotting %s: %w", c.strategy, err)
			}
			line.Color = plotutil.Color(i)
			line.Dashes = plotutil.Dashes(i)
			line.Width = vg.Points(1.5)
			chart.p.Add(line)
			chart.p.Legend.Add(c.strategy, line)
		}
	}

	canvas := vgsvg.New(24*vg.Centimeter, 9*vg.Centimeter)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Centimeter, PadTop: vg.Millimeter,
		PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Centimeter}
	cells := plot.Align([][]*plot.Plot{{recall, loss}}, tiles, draw.New(canvas))
	recall.Draw(cells[0][0])
	loss.Draw(cells[0][1])

	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := canvas.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
