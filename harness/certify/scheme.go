package certify

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/realm-ai/hookcert/harness/scenario"
	"github.com/realm-ai/hookcert/harness/signing"
)

// schemeSchema names the schema of a signing scheme file in the catalogue
// (schemas/scheme.schema.json).
const schemeSchema = "scheme"

// LoadScheme returns the signing scheme a setting names: a built-in one
// (signing.BuiltinSchemes), or a YAML or JSON scheme file, checked against
// schemas/scheme.schema.json with its problems' lines and columns. Empty
// names the default, REALM v1.
func LoadScheme(name string) (*signing.Scheme, error) {
	if name == "" {
		name = signing.DefaultScheme
	}
	if !strings.ContainsAny(name, `/\.`) {
		return signing.Builtin(name)
	}
	data, err := os.ReadFile(name)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist (name a built-in scheme, %s, or a scheme file)", signing.ErrScheme, name, strings.Join(signing.BuiltinSchemes(), ", "))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", signing.ErrScheme, err)
	}
	raw, err := scenario.DecodeFile(filepath.ToSlash(name), data, schemeSchema)
	if err != nil {
		return nil, err
	}
	s, err := signing.DecodeScheme(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}
