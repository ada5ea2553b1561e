package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML: one testsuite per profile.
// A failed MUST is a <failure>; a failed SHOULD (warn) passes with its
// reason in system-out, so CI dashboards stay green on warnings.
func (r *Report) WriteJUnit(w io.Writer) error {
	out := junitSuites{Name: "memoryd conformance", Time: secs(r.Duration.Seconds())}
	index := map[Profile]int{}
	for _, res := range r.Results {
		i, ok := index[res.Profile]
		if !ok {
			i = len(out.Suites)
			index[res.Profile] = i
			out.Suites = append(out.Suites, junitSuite{Name: "conformance." + string(res.Profile),
				Timestamp:  r.Started.Format("2006-01-02T15:04:05"),
				Properties: []junitProperty{{"base_url", r.BaseURL}, {"run_id", r.RunID}}})
		}
		s := &out.Suites[i]
		c := junitCase{Name: fmt.Sprintf("%s [%s] %s", res.ID, res.Level, res.Title),
			Classname: "conformance." + string(res.Profile), Time: secs(res.Duration.Seconds())}
		notes := append([]string{"ref: " + res.Ref}, res.Log...)
		switch res.Outcome {
		case Fail:
			c.Failure = &junitMessage{Message: res.Reason, Type: string(res.Level), Text: res.Reason}
			s.Failures++
		case Skip:
			c.Skipped = &junitMessage{Message: res.Reason}
			s.Skipped++
		case Warn:
			notes = append(notes, "WARN (SHOULD): "+res.Reason)
		}
		c.SystemOut = strings.Join(notes, "\n")
		s.Tests++
		s.Cases = append(s.Cases, c)
	}
	for i := range out.Suites {
		var total float64
		for _, c := range out.Suites[i].Cases {
			var f float64
			fmt.Sscan(c.Time, &f)
			total += f
		}
		out.Suites[i].Time = secs(total)
		out.Tests += out.Suites[i].Tests
		out.Failures += out.Suites[i].Failures
		out.Skipped += out.Suites[i].Skipped
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func secs(s float64) string { return fmt.Sprintf("%.3f", s) }
