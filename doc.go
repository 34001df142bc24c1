// Package triplet mines triplets online from a batch of float32 embeddings
// and their class labels: batch-all, batch-hard and semi-hard mining, the
// triplet loss and its gradient with respect to the embeddings, the mined
// (anchor, positive, negative) triplets and statistics about them.
//
// The library is layered, each layer usable on its own: package asm holds
// the AVX2 and AVX-512 kernels and their Go references, chosen at run time
// from cpuid; package dist builds distance matrices from them; package
// mining runs the strategies over distance rows and labels.
package triplet
