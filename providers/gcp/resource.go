package gcp

import (
	"strings"
)

// resourceRef is a parsed compute resource URL:
// .../projects/P/(zones/Z|regions/R|global)/collection/name.
type resourceRef struct {
	Project, Zone, Region, Collection, Name string
}

// key identifies the resource whatever host or API version its URL used.
func (r resourceRef) key() string {
	scope := "global"
	switch {
	case r.Zone != "":
		scope = "zones/" + r.Zone
	case r.Region != "":
		scope = "regions/" + r.Region
	}
	return "projects/" + r.Project + "/" + scope + "/" + r.Collection + "/" + r.Name
}

// parseRef parses a resource URL or a partial path starting at projects/.
func parseRef(u string) (resourceRef, bool) {
	i := strings.Index(u, "projects/")
	if i < 0 {
		return resourceRef{}, false
	}
	p := strings.Split(strings.TrimSuffix(u[i:], "/"), "/")
	var r resourceRef
	switch {
	case len(p) == 5 && p[2] == "global":
		r = resourceRef{Project: p[1], Collection: p[3], Name: p[4]}
	case len(p) == 6 && p[2] == "zones":
		r = resourceRef{Project: p[1], Zone: p[3], Collection: p[4], Name: p[5]}
	case len(p) == 6 && p[2] == "regions":
		r = resourceRef{Project: p[1], Region: p[3], Collection: p[4], Name: p[5]}
	default:
		return resourceRef{}, false
	}
	return r, r.Project != "" && r.Name != ""
}

// sameResource compares two resource URLs by their projects/... path.
func sameResource(a, b string) bool {
	ra, okA := parseRef(a)
	rb, okB := parseRef(b)
	return okA && okB && ra.key() == rb.key()
}

func lastSegment(u string) string {
	u = strings.TrimSuffix(u, "/")
	return u[strings.LastIndex(u, "/")+1:]
}
