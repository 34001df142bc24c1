// Package dist computes distance matrices between embeddings (squared
// Euclidean, Euclidean and cosine), pairwise within a batch or between
// queries and a set of references, and their backward pass.
package dist
