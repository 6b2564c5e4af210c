package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"strings"
)

// mutations is what each gremlins mutator turns a token into (gremlins
// v0.6.0, internal/engine/mappings.go), so that a mutant gremlins did not
// run, or whose run the log does not hold, is still named by its change.
var mutations = map[string]map[token.Token]token.Token{
	"ARITHMETIC_BASE":       {token.ADD: token.SUB, token.MUL: token.QUO, token.QUO: token.MUL, token.REM: token.MUL, token.SUB: token.ADD},
	"CONDITIONALS_BOUNDARY": {token.GEQ: token.GTR, token.GTR: token.GEQ, token.LEQ: token.LSS, token.LSS: token.LEQ},
	"CONDITIONALS_NEGATION": {token.EQL: token.NEQ, token.GEQ: token.LSS, token.GTR: token.LEQ, token.LEQ: token.GTR, token.LSS: token.GEQ, token.NEQ: token.EQL},
	"INCREMENT_DECREMENT":   {token.DEC: token.INC, token.INC: token.DEC},
	"INVERT_ASSIGNMENTS":    {token.ADD_ASSIGN: token.SUB_ASSIGN, token.MUL_ASSIGN: token.QUO_ASSIGN, token.QUO_ASSIGN: token.MUL_ASSIGN, token.REM_ASSIGN: token.REM_ASSIGN, token.SUB_ASSIGN: token.ADD_ASSIGN},
	"INVERT_BITWISE":        {token.AND: token.OR, token.OR: token.AND, token.XOR: token.AND, token.AND_NOT: token.AND, token.SHL: token.SHR, token.SHR: token.SHL},
	"INVERT_BWASSIGN": {token.AND_ASSIGN: token.OR_ASSIGN, token.OR_ASSIGN: token.AND_ASSIGN, token.XOR_ASSIGN: token.AND_ASSIGN,
		token.AND_NOT_ASSIGN: token.AND_ASSIGN, token.SHL_ASSIGN: token.SHR_ASSIGN, token.SHR_ASSIGN: token.SHL_ASSIGN},
	"INVERT_LOGICAL":   {token.LAND: token.LOR, token.LOR: token.LAND},
	"INVERT_LOOPCTRL":  {token.BREAK: token.CONTINUE, token.CONTINUE: token.BREAK},
	"INVERT_NEGATIVES": {token.SUB: token.ADD},
	"REMOVE_SELF_ASSIGNMENTS": {token.ADD_ASSIGN: token.ASSIGN, token.AND_ASSIGN: token.ASSIGN, token.AND_NOT_ASSIGN: token.ASSIGN,
		token.MUL_ASSIGN: token.ASSIGN, token.OR_ASSIGN: token.ASSIGN, token.QUO_ASSIGN: token.ASSIGN, token.REM_ASSIGN: token.ASSIGN,
		token.SHL_ASSIGN: token.ASSIGN, token.SHR_ASSIGN: token.ASSIGN, token.SUB_ASSIGN: token.ASSIGN, token.XOR_ASSIGN: token.ASSIGN},
}

// pkgSource is the unmutated package, its files parsed when first asked
// for.
type pkgSource struct {
	dir   string
	files map[string]*sourceFile
	// switches are the fields of the receiver's rules type: each holds one
	// planted fault, false in the correct receiver.
	switches map[string]bool
}

func newPackage(dir string) *pkgSource {
	return &pkgSource{dir: dir, files: map[string]*sourceFile{}}
}

// sourceFile is one parsed file.
type sourceFile struct {
	fset  *token.FileSet
	tf    *token.File
	ast   *ast.File
	src   []byte
	lines []string
}

func (p *pkgSource) file(name string) (*sourceFile, error) {
	if f, ok := p.files[name]; ok {
		return f, nil
	}
	src, err := os.ReadFile(filepath.Join(p.dir, name))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	af, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	f := &sourceFile{fset: fset, tf: fset.File(af.Pos()), ast: af, src: src, lines: strings.Split(string(src), "\n")}
	p.files[name] = f
	return f, nil
}

// pos converts gremlins' line and column (1-based, in bytes) to a
// token.Pos of f.
func (f *sourceFile) pos(line, col int) (token.Pos, error) {
	if line < 1 || line > f.tf.LineCount() || col < 1 {
		return token.NoPos, fmt.Errorf("%s:%d:%d is not in the file: was it edited since gremlins ran?", f.tf.Name(), line, col)
	}
	return f.tf.LineStart(line) + token.Pos(col-1), nil
}

// describe fills in what m changes: the token at its position and what
// its mutator makes of it, the function, the line before and after.
func (f *sourceFile) describe(m *mutant) error {
	p, err := f.pos(m.Line, m.Column)
	if err != nil {
		return err
	}
	var s scanner.Scanner
	s.Init(f.tf, f.src, nil, 0)
	was := token.ILLEGAL
	for {
		tp, tok, _ := s.Scan()
		if tp == p {
			was = tok
			break
		}
		if tok == token.EOF || tp > p {
			break
		}
	}
	now, ok := mutations[m.Type][was]
	if !ok {
		return fmt.Errorf("%s: no %s mutation of %q there: was the file edited since gremlins ran?", m.where(), m.Type, was)
	}
	m.Was, m.Now = was.String(), now.String()
	line := f.lines[m.Line-1]
	at := m.Column - 1
	m.Code = strings.TrimSpace(line)
	m.Mutated = strings.TrimSpace(line[:at] + m.Now + line[at+len(m.Was):])
	m.Func = f.funcAt(p)
	m.InCase = f.inCaseList(p)
	return nil
}

// inCaseList reports whether p is in the expressions of a switch case,
// which Go's coverage counts in no block.
func (f *sourceFile) inCaseList(p token.Pos) bool {
	in := false
	ast.Inspect(f.ast, func(n ast.Node) bool {
		if cc, ok := n.(*ast.CaseClause); ok && len(cc.List) > 0 && p >= cc.List[0].Pos() && p < cc.List[len(cc.List)-1].End() {
			in = true
		}
		return !in
	})
	return in
}

// funcAt names the function declaration around p, with its receiver's
// type: "Receiver.readBody".
func (f *sourceFile) funcAt(p token.Pos) string {
	for _, d := range f.ast.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || p < fd.Pos() || p > fd.End() {
			continue
		}
		if fd.Recv != nil && len(fd.Recv.List) > 0 {
			t := fd.Recv.List[0].Type
			if st, ok := t.(*ast.StarExpr); ok {
				t = st.X
			}
			if id, ok := t.(*ast.Ident); ok {
				return id.Name + "." + fd.Name.Name
			}
		}
		return fd.Name.Name
	}
	return "(package level)"
}

// faultGated says why m cannot change the correct receiver's behaviour
// when a planted-fault switch decides it, "" when none does. Either m's
// token is never evaluated, being in Y of "X && Y" where X holds a switch
// conjunctively (false, so Y is skipped) or of "X || Y" where X holds a
// negated one; or m swaps && and || between two operands that are both
// false (or both true) for the same reason, which leaves the result as it
// was. Go's coverage counts whole blocks, so gremlins calls such a token
// covered; no run of the catalogue against the correct receiver can kill
// it.
func (p *pkgSource) faultGated(m *mutant) string {
	f, err := p.file(m.File)
	if err != nil {
		return ""
	}
	pos, err := f.pos(m.Line, m.Column)
	if err != nil {
		return ""
	}
	var why string
	ast.Inspect(f.ast, func(n ast.Node) bool {
		b, ok := n.(*ast.BinaryExpr)
		if !ok || why != "" {
			return why == ""
		}
		if pos == b.OpPos && (b.Op == token.LAND || b.Op == token.LOR) {
			for _, op := range []token.Token{token.LAND, token.LOR} {
				x, y := p.offSwitch(b.X, op), p.offSwitch(b.Y, op)
				if x != nil && y != nil {
					why = fmt.Sprintf("Both operands are %v in the correct receiver, as %s and %s are planted faults, off there: "+
						"&& and || give the same.", op == token.LOR, f.text(x), f.text(y))
				}
			}
			return why == ""
		}
		if pos < b.Y.Pos() || pos >= b.Y.End() || (b.Op != token.LAND && b.Op != token.LOR) {
			return true
		}
		if sw := p.offSwitch(b.X, b.Op); sw != nil {
			why = fmt.Sprintf("Evaluated only when %s is true, a planted fault; it is false in the correct receiver.", f.text(sw))
		}
		return why == ""
	})
	return why
}

// offSwitch returns the planted-fault switch that decides x, when x is
// known without evaluating further in the correct receiver: under &&, x is
// false when it is a switch or a conjunction holding one; under ||, x is
// true when it is a negated switch or a disjunction holding one.
func (p *pkgSource) offSwitch(x ast.Expr, op token.Token) ast.Expr {
	x = ast.Unparen(x)
	if b, ok := x.(*ast.BinaryExpr); ok && b.Op == op {
		if sw := p.offSwitch(b.X, op); sw != nil {
			return sw
		}
		return p.offSwitch(b.Y, op)
	}
	if op == token.LOR {
		u, ok := x.(*ast.UnaryExpr)
		if !ok || u.Op != token.NOT {
			return nil
		}
		x = ast.Unparen(u.X)
	}
	if p.isSwitch(x) {
		return x
	}
	return nil
}

// isSwitch reports whether x reads a planted-fault switch: an element of
// a map named faults (r.faults[FaultX], faults[FaultX]), or a field of
// the receiver's rules type (r.lastWriteWins).
func (p *pkgSource) isSwitch(x ast.Expr) bool {
	switch x := x.(type) {
	case *ast.IndexExpr:
		switch m := ast.Unparen(x.X).(type) {
		case *ast.Ident:
			return m.Name == "faults"
		case *ast.SelectorExpr:
			return m.Sel.Name == "faults"
		}
	case *ast.SelectorExpr:
		return p.ruleFields()[x.Sel.Name]
	}
	return false
}

// ruleFields finds the fields of the package's rules struct, the planted
// state-machine faults, so that a fault added to it is recognised without
// a change here.
func (p *pkgSource) ruleFields() map[string]bool {
	if p.switches != nil {
		return p.switches
	}
	p.switches = map[string]bool{}
	names, _ := filepath.Glob(filepath.Join(p.dir, "*.go"))
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := p.file(filepath.Base(n))
		if err != nil {
			continue
		}
		ast.Inspect(f.ast, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok || ts.Name.Name != "rules" {
				return true
			}
			if st, ok := ts.Type.(*ast.StructType); ok {
				for _, fl := range st.Fields.List {
					for _, id := range fl.Names {
						p.switches[id.Name] = true
					}
				}
			}
			return false
		})
	}
	return p.switches
}

// text is the source of n.
func (f *sourceFile) text(n ast.Node) string {
	return string(f.src[f.tf.Offset(n.Pos()):f.tf.Offset(n.End())])
}
