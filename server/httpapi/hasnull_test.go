package httpapi

import "testing"

func TestHasNull(t *testing.T) {
	for body, want := range map[string]bool{
		`{"text":"no null in here","n":1}`:     false,
		`{"text":"a \"null\" \\","e":[1,2]}`:   false,
		`{"e":[0.1,null]}`:                     true,
		`{"text":"x\\","metadata":{"k":null}}`: true,
		`[true,false,1e5]`:                     false,
		`null`:                                 true,
	} {
		if got := hasNull([]byte(body)); got != want {
			t.Errorf("hasNull(%s) = %v, want %v", body, got, want)
		}
	}
}
