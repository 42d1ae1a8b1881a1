package suggest

// Closest returns the word of known closest to word, when it is within
// two edits (a swap of two letters is one); "" when none is.
func Closest(word string, known []string) string {
	best, dist := "", 3
	for _, k := range known {
		if d := editDistance(word, k); d < dist {
			best, dist = k, d
		}
	}
	return best
}

// editDistance is the Damerau (optimal string alignment) distance, so a
// swap of two letters counts as one edit.
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
