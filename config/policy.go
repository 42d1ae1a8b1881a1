package config

import "reflect"

// ParsePolicy reads a policy file (the gate's --policy: origins, methods,
// headers, credentials) and validates it with the same rules as a target's
// policy:. file names the source in messages; the error lists every
// problem.
func ParsePolicy(data []byte, file string) (Policy, error) {
	var scratch Config
	var p Policy
	root, err := parseYAML(data, file)
	if err != nil {
		return Policy{}, err
	}
	if root != nil {
		d := decoder{file: file, c: &scratch, positions: true} // a policy file is small
		d.value(root, reflect.ValueOf(&p).Elem(), "")
	}
	v := &validation{c: &scratch, problems: scratch.problems}
	v.policy(p, "")
	if err := v.problems.err(); err != nil {
		return Policy{}, err
	}
	return p, nil
}
