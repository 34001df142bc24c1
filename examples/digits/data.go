package main

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
)

// digitsCSV is the test part of the UCI "Optical Recognition of Handwritten
// Digits" data set (Alpaydin and Kaynak, CC BY 4.0; see DATA.md): 1,797
// images of 8×8 pixel counts, 0..16, each followed by its digit.
//
//go:embed digits.csv.gz
var digitsCSV []byte

// pixels is the number of values in an image.
const pixels = 64

// A dataset holds images as rows of pixels values scaled to [0, 1], and
// their digits.
type dataset struct {
	images []float32 // row-major, len(labels) rows
	labels []int32
}

func (d dataset) len() int { return len(d.labels) }

// image returns row i.
func (d dataset) image(i int) []float32 { return d.images[i*pixels : (i+1)*pixels] }

// loadDigits decodes the embedded data set.
func loadDigits() (dataset, error) {
	zr, err := gzip.NewReader(bytes.NewReader(digitsCSV))
	if err != nil {
		return dataset{}, err
	}
	r := csv.NewReader(zr)
	r.FieldsPerRecord = pixels + 1
	r.ReuseRecord = true

	var d dataset
	for line := 1; ; line++ {
		record, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return dataset{}, err
		}
		for k, field := range record {
			v, err := strconv.Atoi(field)
			if err != nil || v < 0 || (k < pixels && v > 16) || (k == pixels && v > 9) {
				return dataset{}, fmt.Errorf("digits.csv line %d, field %d: bad value %q",
					line, k+1, field)
			}
			if k < pixels {
				d.images = append(d.images, float32(v)/16)
			} else {
				d.labels = append(d.labels, int32(v))
			}
		}
	}
	return d, nil
}

// splitSeed fixes the split, whatever the -seed flag says, so that every
// run holds out the same images.
const splitSeed = 2026

// split puts 70% of each digit's images, picked at random with a fixed
// seed, in train and the other 30% in test, each in the data set's order.
func split(d dataset) (train, test dataset) {
	rng := rand.New(rand.NewPCG(splitSeed, 0))
	byDigit := map[int32][]int{}
	for i, label := range d.labels {
		byDigit[label] = append(byDigit[label], i)
	}

	inTrain := make([]bool, d.len())
	for digit := range int32(10) {
		rows := byDigit[digit]
		rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
		for _, i := range rows[:(len(rows)*7+5)/10] {
			inTrain[i] = true
		}
	}

	for i, label := range d.labels {
		to := &test
		if inTrain[i] {
			to = &train
		}
		to.images = append(to.images, d.image(i)...)
		to.labels = append(to.labels, label)
	}
	return train, test
}

// gather copies the images of rows into dst and returns it.
func (d dataset) gather(dst []float32, rows []int) []float32 {
	dst = dst[:0]
	for _, i := range rows {
		dst = append(dst, d.image(i)...)
	}
	return dst
}
