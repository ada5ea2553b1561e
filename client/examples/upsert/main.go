// Command upsert stores the API documents' example memory with the Go
// client and reads it back (the README's Go example).
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/memoryd/memoryd/client"
)

func main() {
	ctx := context.Background()
	c := client.New("http://127.0.0.1:8080", os.Getenv("MEMORYD_API_KEY"))
	result, err := c.Upsert(ctx, client.MemoryInput{
		Text: "Meeting notes from Q4 planning",
		Metadata: map[string]any{
			"type": "meeting",
			"tags": []string{"planning", "q4"},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(result.Status, result.Id)
	for m, err := range c.List(ctx, client.ListOptions{Type: "meeting"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(m.Id, m.Text)
	}
}
