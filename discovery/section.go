package discovery

// Section is a provider's config section: a struct the config decodes
// into, which validates itself without I/O.
type Section interface {
	Validate() error
}

// DecodeSection decodes a provider's section over def (its defaults, or
// the zero value) and validates it: the one way each provider's New and
// Check read their section, so the two reach the same verdict in the
// same words.
func DecodeSection[C Section](decode func(any) error, def C) (C, error) {
	c := def
	if err := decode(&c); err != nil {
		var zero C
		return zero, err
	}
	return c, c.Validate()
}
