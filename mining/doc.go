// Package mining runs the triplet mining strategies (batch-all,
// batch-hard and semi-hard) over distance rows and labels, producing the
// loss, its derivative with respect to the distances, the selected
// triplets and statistics.
package mining
