package plural

import (
	"strconv"
	"strings"
)

// Count is n followed by noun, in the plural unless n is 1 or -1: "1 instance",
// "0 instances". noun is the singular of a regular noun (plural adds "s",
// "es" after s, x, z, ch and sh: "2 fetches").
func Count(n int, noun string) string {
	return strconv.Itoa(n) + " " + Noun(n, noun)
}

// Noun is noun in the plural unless n is 1 or -1 ("of 1 probe", "of 5
// probes"), for phrases where the count is written apart.
func Noun(n int, noun string) string {
	if n == 1 || n == -1 {
		return noun
	}
	for _, end := range []string{"s", "x", "z", "ch", "sh"} {
		if strings.HasSuffix(noun, end) {
			return noun + "es"
		}
	}
	return noun + "s"
}

// Verb is a regular verb in the present tense agreeing with a count of n
// things: "1 instance sends", "2 instances send".
func Verb(n int, verb string) string {
	if n == 1 || n == -1 {
		return verb + "s"
	}
	return verb
}
