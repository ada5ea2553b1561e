package httpapi

import (
	"unicode/utf16"
	"unicode/utf8"

	memoryd "github.com/memoryd/memoryd/server"
)

// checkJSONText refuses a JSON body whose strings encoding/json would
// rewrite without a word: bytes that are not UTF-8 and \u escapes of lone
// UTF-16 surrogates both decode to U+FFFD, so the server would store
// something other than what the client sent. body must be valid JSON
// (json.Valid): then every backslash is inside a string and every \u has
// four hex digits.
func checkJSONText(body []byte) error {
	if !utf8.Valid(body) {
		return &memoryd.Error{Code: memoryd.EINVALID, Message: "Request body is not valid UTF-8"}
	}
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' {
			continue
		}
		i++ // the escaped character; a "\\" is skipped whole
		if i+4 >= len(body) || body[i] != 'u' {
			continue
		}
		r := hex4(body[i+1 : i+5])
		i += 4
		if !utf16.IsSurrogate(r) {
			continue
		}
		if r < 0xdc00 && i+6 < len(body) && body[i+1] == '\\' && body[i+2] == 'u' {
			if lo := hex4(body[i+3 : i+7]); 0xdc00 <= lo && lo <= 0xdfff {
				i += 6 // a high and a low surrogate: one character
				continue
			}
		}
		return &memoryd.Error{Code: memoryd.EINVALID, Message: "Request body has an unpaired UTF-16 surrogate escape"}
	}
	return nil
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}
