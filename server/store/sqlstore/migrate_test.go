package sqlstore

import (
	"reflect"
	"testing"
)

// Migrations keep one statement per paragraph; comment-only paragraphs and
// comment lines are dropped, CRLF files read as LF ones.
func TestSplitStatements(t *testing.T) {
	body := "-- header\r\n\r\nCREATE TABLE a (\r\n\tx INT -- inline stays\r\n);\r\n\r\n-- only a comment\r\n\r\n\r\nINSERT INTO a VALUES (1);\r\n"
	want := []string{"CREATE TABLE a (\n\tx INT -- inline stays\n);", "INSERT INTO a VALUES (1);"}
	if got := splitStatements(body); !reflect.DeepEqual(got, want) {
		t.Fatalf("splitStatements = %q, want %q", got, want)
	}
}
