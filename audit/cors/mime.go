package cors

import "strings"

// mimeEssence parses s as a MIME type with the WHATWG MIME Sniffing
// standard's parser (https://mimesniff.spec.whatwg.org/#parse-a-mime-type)
// far enough to return its essence, "type/subtype" in ASCII lower case.
// Parameters are not validated beyond what the parser requires before the
// first ";" (the parser never fails on parameters). ok is false when the
// parser returns failure: an empty or non-token type or subtype, or no "/".
func mimeEssence(s string) (string, bool) {
	// Step 1: remove leading and trailing HTTP whitespace.
	s = trimHTTPWhitespace(s)
	// Steps 3-6: type is everything up to "/", and must be a non-empty
	// string of HTTP token code points.
	slash := strings.IndexByte(s, '/')
	if slash < 0 {
		return "", false
	}
	typ := s[:slash]
	if !IsToken(typ) {
		return "", false
	}
	// Steps 8-10: subtype is everything up to ";", with trailing HTTP
	// whitespace removed, and must be a non-empty token.
	rest := s[slash+1:]
	if semi := strings.IndexByte(rest, ';'); semi >= 0 {
		rest = rest[:semi]
	}
	subtype := strings.TrimRight(rest, " \t\r\n")
	if !IsToken(subtype) {
		return "", false
	}
	return strings.ToLower(typ + "/" + subtype), true
}
