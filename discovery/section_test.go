package discovery

import (
	"errors"
	"testing"
)

type testSection struct{ Port, Min int }

func (s testSection) Validate() error {
	if s.Port < s.Min {
		return errors.New("port below min")
	}
	return nil
}

// TestDecodeSection: the section is decoded over the defaults given, then
// validated; a decoding error returns the zero section.
func TestDecodeSection(t *testing.T) {
	tests := []struct {
		desc    string
		decode  func(any) error
		want    testSection
		wantErr string
	}{
		{desc: "defaults kept where the section is silent", decode: func(v any) error { v.(*testSection).Port = 8080; return nil },
			want: testSection{Port: 8080, Min: 1}},
		{desc: "validated after decoding", decode: func(v any) error { v.(*testSection).Port = 0; return nil },
			want: testSection{Port: 0, Min: 1}, wantErr: "port below min"},
		{desc: "a decoding error returns the zero section", decode: func(any) error { return errors.New("bad yaml") },
			wantErr: "bad yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			got, err := DecodeSection(tt.decode, testSection{Min: 1})
			if got != tt.want || (err == nil) != (tt.wantErr == "") || err != nil && err.Error() != tt.wantErr {
				t.Errorf("DecodeSection = %+v, %v; want %+v, %q", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
