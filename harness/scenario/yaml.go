package scenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxValues bounds how many values a file may expand to, aliases included,
// so that a few lines of nested aliases (a "billion laughs") cannot exhaust
// memory. The largest built-in scenario has under 200.
const maxValues = 100_000

// document is a parsed scenario file. It keeps the YAML tree so that any
// JSON pointer, from the schema or from the loader's own checks, can be
// traced back to a line and column.
type document struct {
	root *yaml.Node
	// last is the file's last line.
	last int
}

// lastLine is the number of the last line of data; a final newline ends
// it and starts none.
func lastLine(data []byte) int {
	return bytes.Count(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) + 1
}

// inFile is a position the parser gave, within the file. At the end of
// a file without a final newline (an empty document after ---, a second
// one starting there) the parser places a node on the line after the
// last, as it starts a new line before it ends the stream; no editor can
// jump there, so it is the last line, its column unknown.
func inFile(line, col, last int) (int, int) {
	if line > last {
		return last, 0
	}
	return line, col
}

// yamlLine matches the position in go.yaml.in/yaml syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// parseYAML parses exactly one YAML document. JSON is YAML, so JSON files
// parse too.
func parseYAML(data []byte) (doc *document, probs []problem) {
	// The YAML parser is third-party code fed with user files; whatever
	// goes wrong in it must come back as a problem with the file, not as a
	// crash of the suite.
	defer func() {
		if r := recover(); r != nil {
			doc, probs = nil, []problem{{Message: fmt.Sprintf("YAML parser failed on this file: %v", r)}}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, []problem{{Message: "the file is empty: a scenario needs id, title, level, category, requirement, seed and steps"}}
		}
		return nil, []problem{syntaxProblem(err, data)}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		line, col := inFile(next.Line, next.Column, lastLine(data))
		return nil, []problem{{Line: line, Column: col,
			Message: "a scenario file holds one YAML document, but a second one starts here (remove the '---' separator or split the file)"}}
	case !errors.Is(err, io.EOF):
		return nil, []problem{syntaxProblem(err, data)}
	}
	root := &n
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		root = n.Content[0]
	}
	return &document{root: root, last: lastLine(data)}, nil
}

// parserProblems are the messages of go.yaml.in/yaml's parser (as opposed
// to its scanner). For these its error gives the 0-based line of the
// construct at fault, so the line the user sees is one more.
var parserProblems = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
	"did not find expected <stream-start>",
	"did not find expected key",
	"did not find expected node content",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

// syntaxProblem turns a YAML syntax error in data into a problem at its
// line, within the file (see inFile).
func syntaxProblem(err error, data []byte) problem {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if slices.Contains(parserProblems, m[2]) {
			line++
		}
		line, _ = inFile(line, 0, lastLine(data))
		return problem{Line: line, Message: "YAML syntax error: " + m[2]}
	}
	return problem{Message: "YAML syntax error: " + strings.TrimPrefix(msg, "yaml: ")}
}

// value converts the document into the JSON data model (map[string]any,
// []any, string, bool, json.Number, nil), the form the schema validates.
// Problems are things YAML can say but JSON cannot: non-string keys,
// repeated keys, infinities, aliases that contain themselves.
func (d *document) value() (any, []problem) {
	c := converter{active: map[*yaml.Node]bool{}, last: d.last}
	v := c.convert(d.root, "")
	return v, c.problems
}

type converter struct {
	count    int
	problems []problem
	// alias is the outermost alias being expanded, where a file that
	// expands beyond maxValues is reported.
	alias    *yaml.Node
	aliasPtr string
	// active holds the anchored nodes being converted, to catch an alias
	// to one of its own ancestors.
	active map[*yaml.Node]bool
	// last is the file's last line.
	last int
}

func (c *converter) fail(n *yaml.Node, ptr, format string, args ...any) {
	line, col := inFile(n.Line, n.Column, c.last)
	c.problems = append(c.problems, problem{Line: line, Column: col, Pointer: ptr, Message: fmt.Sprintf(format, args...)})
}

func (c *converter) convert(n *yaml.Node, ptr string) any {
	c.count++
	if c.count == maxValues+1 {
		if c.alias != nil {
			c.fail(c.alias, c.aliasPtr, "this alias takes the file beyond %d values; a scenario is much smaller (aliases that repeat aliases?)", maxValues)
		} else {
			c.fail(n, ptr, "the file holds more than %d values; a scenario is much smaller", maxValues)
		}
	}
	if c.count > maxValues {
		return nil
	}
	if n.Anchor != "" {
		c.active[n] = true
		defer delete(c.active, n)
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			c.fail(n, ptr, "alias *%s has no anchor", n.Value)
			return nil
		}
		if c.active[n.Alias] {
			c.fail(n, ptr, "alias *%s refers to a value that contains it", n.Value)
			return nil
		}
		if c.alias == nil {
			c.alias, c.aliasPtr = n, ptr
			defer func() { c.alias = nil }()
		}
		return c.convert(n.Alias, ptr)
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return c.convert(n.Content[0], ptr)
	case yaml.SequenceNode:
		out := make([]any, len(n.Content))
		for i, item := range n.Content {
			out[i] = c.convert(item, ptr+"/"+strconv.Itoa(i))
		}
		return out
	case yaml.MappingNode:
		return c.mapping(n, ptr)
	case yaml.ScalarNode:
		return c.scalar(n, ptr)
	}
	c.fail(n, ptr, "unsupported YAML node")
	return nil
}

// mapping converts a mapping. Its own keys win over merged ones (<<: *x),
// and earlier merges win over later ones, as YAML's merge key specifies.
func (c *converter) mapping(n *yaml.Node, ptr string) map[string]any {
	out := make(map[string]any, len(n.Content)/2)
	where := map[string]*yaml.Node{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if isMerge(k) {
			merges = append(merges, v)
			continue
		}
		key, ok := c.key(k, ptr)
		if !ok {
			continue
		}
		if first, dup := where[key]; dup {
			c.fail(k, ptr+"/"+escape(key), "key %q is repeated (first at line %d); keep one", key, first.Line)
			continue
		}
		where[key] = k
		out[key] = c.convert(v, ptr+"/"+escape(key))
	}
	for _, m := range merges {
		for _, src := range mergeSources(m) {
			if src.Kind != yaml.MappingNode {
				c.fail(m, ptr, "a merge key (<<) takes a mapping or a list of mappings")
				continue
			}
			if c.active[src] {
				c.fail(m, ptr, "merge key (<<) refers to a mapping that contains it")
				continue
			}
			merged, _ := c.convert(src, ptr).(map[string]any)
			for key, v := range merged {
				if _, ok := out[key]; !ok {
					out[key] = v
				}
			}
		}
	}
	return out
}

func (c *converter) key(k *yaml.Node, ptr string) (string, bool) {
	if k.Kind == yaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	if k.Kind != yaml.ScalarNode {
		c.fail(k, ptr, "a key must be a plain word, not a list or a mapping")
		return "", false
	}
	return k.Value, true
}

func (c *converter) scalar(n *yaml.Node, ptr string) any {
	switch tag := n.ShortTag(); tag {
	case "!!str", "!!timestamp", "!!binary":
		// A date stays the text it was written as: JSON has no dates.
		return n.Value
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			c.fail(n, ptr, "%q is not a boolean: %v", n.Value, err)
		}
		return b
	case "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err != nil {
			c.fail(n, ptr, "%q is not a number: %v", n.Value, err)
			return nil
		}
		switch x := v.(type) {
		case int:
			return json.Number(strconv.Itoa(x))
		case int64:
			return json.Number(strconv.FormatInt(x, 10))
		case uint64:
			return json.Number(strconv.FormatUint(x, 10))
		case float64:
			if math.IsInf(x, 0) || math.IsNaN(x) {
				c.fail(n, ptr, "%s is not a finite number", n.Value)
				return nil
			}
			return json.Number(strconv.FormatFloat(x, 'g', -1, 64))
		}
		c.fail(n, ptr, "%q is not a number", n.Value)
		return nil
	default:
		c.fail(n, ptr, "YAML tag %s is not supported in a scenario; write a plain value", tag)
		return nil
	}
}

func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge"
}

// mergeSources resolves the value of a merge key to the mappings it names.
func mergeSources(v *yaml.Node) []*yaml.Node {
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	if v.Kind != yaml.SequenceNode {
		return []*yaml.Node{v}
	}
	out := make([]*yaml.Node, 0, len(v.Content))
	for _, item := range v.Content {
		if item.Kind == yaml.AliasNode && item.Alias != nil {
			item = item.Alias
		}
		out = append(out, item)
	}
	return out
}

// find walks a JSON pointer down the tree. It returns the deepest node it
// reached, the key node of that value when the value is in a mapping (nil
// otherwise), and whether it reached the end of the pointer.
func (d *document) find(ptr string) (node, key *yaml.Node, ok bool) {
	node = d.root
	for _, tok := range tokens(ptr) {
		node = deref(node)
		switch node.Kind {
		case yaml.MappingNode:
			k, v := lookupKey(node, tok)
			if v == nil {
				return node, key, false
			}
			node, key = v, k
		case yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(node.Content) {
				return node, key, false
			}
			node, key = node.Content[i], nil
		default:
			return node, key, false
		}
	}
	return deref(node), key, true
}

// position gives the line and column of the value at ptr, or of the
// nearest enclosing value that exists.
func (d *document) position(ptr string) (line, col int) {
	if d == nil || d.root == nil {
		return 0, 0
	}
	n, _, _ := d.find(ptr)
	return inFile(n.Line, n.Column, d.last)
}

// keyPosition gives the line and column of the key whose value is at ptr,
// falling back to position when the value is not in a mapping.
func (d *document) keyPosition(ptr string) (line, col int) {
	if d == nil || d.root == nil {
		return 0, 0
	}
	if _, k, ok := d.find(ptr); ok && k != nil {
		return inFile(k.Line, k.Column, d.last)
	}
	return d.position(ptr)
}

// keys lists the keys of the mapping at ptr, merged keys included, in the
// order they are written; nil if there is no mapping there.
func (d *document) keys(ptr string) []string {
	n, _, ok := d.find(ptr)
	if !ok || n.Kind != yaml.MappingNode {
		return nil
	}
	var out []string
	for k := range entries(n) {
		if !slices.Contains(out, k.Value) {
			out = append(out, k.Value)
		}
	}
	return out
}

// lookupKey finds key in mapping m, own keys first, then merged mappings.
func lookupKey(m *yaml.Node, key string) (k, v *yaml.Node) {
	for k, v := range entries(m) {
		if k.Value == key {
			return k, v
		}
	}
	return nil, nil
}

// maxMergeDepth bounds how deep entries follows merge keys (<<) that merge
// mappings that merge mappings.
const maxMergeDepth = 16

// entries yields the scalar keys and their values of mapping m in the
// order YAML gives them precedence: its own entries as written, then those
// of the mappings it merges (<<), depth first. A key may come more than
// once; the first wins.
func entries(m *yaml.Node) iter.Seq2[*yaml.Node, *yaml.Node] {
	return func(yield func(k, v *yaml.Node) bool) {
		var walk func(m *yaml.Node, depth int) bool
		walk = func(m *yaml.Node, depth int) bool {
			if depth > maxMergeDepth {
				return true
			}
			var merges []*yaml.Node
			for i := 0; i+1 < len(m.Content); i += 2 {
				k := deref(m.Content[i])
				switch {
				case isMerge(k):
					merges = append(merges, m.Content[i+1])
				case k.Kind == yaml.ScalarNode:
					if !yield(k, m.Content[i+1]) {
						return false
					}
				}
			}
			for _, mv := range merges {
				for _, src := range mergeSources(mv) {
					if src.Kind == yaml.MappingNode && !walk(src, depth+1) {
						return false
					}
				}
			}
			return true
		}
		walk(m, 0)
	}
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; i < 16 && n.Kind == yaml.AliasNode && n.Alias != nil; i++ {
		n = n.Alias
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

// tokens splits a JSON pointer into its unescaped reference tokens.
func tokens(ptr string) []string {
	if ptr == "" {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(ptr, "/"), "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
	}
	return parts
}

// escape makes a key into a JSON pointer reference token.
func escape(key string) string {
	return strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
}
