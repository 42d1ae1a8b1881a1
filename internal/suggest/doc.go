// Package suggest finds the word a user probably meant: a YAML key, a
// flag or a CORSAUDIT_* variable misspelt by an edit or two.
package suggest
