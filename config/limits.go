package config

import (
	"fmt"
	"io"
	"io/fs"
	"os"

	"go.yaml.in/yaml/v3"
)

// A config, a policy file or a secret file comes from anyone who can write
// a file the tool reads: what reading it costs is bounded before anything
// is decoded.

// MaxFileSize is the largest file ReadFile reads: a config listing 100,000
// static instances is about 10 MB.
const MaxFileSize = 32 << 20

// ReadFile reads a config, policy or secret file whole, refusing one larger
// than MaxFileSize (an endless file such as /dev/zero included).
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("larger than %d MiB", MaxFileSize>>20)}
	}
	return data, nil
}

// Alias expansion is bounded as Kubernetes bounds it since CVE-2019-11253
// (go-yaml pull request 515, kubernetes/kubernetes pull request 83261):
// aliases may add up to aliasNodes nodes to a document, or a tenth of the
// document's own nodes when that is more. The decoder walks the expanded
// tree (an alias is decoded again wherever it appears), so this bounds its
// time and memory by the size of the file.
const aliasNodes = 400_000

// checkExpansion refuses a document whose aliases expand beyond the bound,
// or whose anchor contains an alias of itself, before anything walks it.
func checkExpansion(root *yaml.Node) error {
	own := ownNodes(root)
	e := expansion{limit: own + max(aliasNodes, own/10), sizes: map[*yaml.Node]int{}, busy: map[*yaml.Node]bool{}}
	n, err := e.size(root)
	if err != nil {
		return err
	}
	if n > e.limit {
		return fmt.Errorf("aliases expand the document beyond %d nodes (it has %d of its own): write the values out, or use fewer aliases", e.limit, own)
	}
	return nil
}

// ownNodes counts the nodes of the document as written, an alias as one.
func ownNodes(n *yaml.Node) int {
	total := 1
	for _, c := range n.Content {
		total += ownNodes(c)
	}
	return total
}

// expansion sizes a document with every alias replaced by the value it
// names. Each anchored value is sized once, so this costs the size of the
// document as written.
type expansion struct {
	// limit: sizes stop growing past it.
	limit int
	sizes map[*yaml.Node]int
	// busy holds the anchored values being sized: an alias of one of them
	// is inside it.
	busy map[*yaml.Node]bool
}

// size is the number of nodes n expands to, at most limit+1.
func (e *expansion) size(n *yaml.Node) (int, error) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Anchor != "" {
		if e.busy[n] {
			return 0, fmt.Errorf("anchor %q contains itself", n.Anchor)
		}
		if s, ok := e.sizes[n]; ok {
			return s, nil
		}
		e.busy[n] = true
		defer delete(e.busy, n)
	}
	s := 1
	for _, c := range n.Content {
		cs, err := e.size(c)
		if err != nil {
			return 0, err
		}
		s = min(s+cs, e.limit+1)
	}
	if n.Anchor != "" {
		e.sizes[n] = s
	}
	return s, nil
}
