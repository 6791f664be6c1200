// Command kstatus reads resources as kstatus does (sigs.k8s.io/cli-utils/pkg/kstatus), the
// library Flux's health checks and kpt build on: Current, InProgress, Failed, ... with a message.
//
// Input on stdin: {"objects": [<resource>, ...]}.
// Output on stdout: [{"status": "...", "message": "..."}, ...], one per object.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type input struct {
	Objects []map[string]interface{} `json:"objects"`
}

type verdict struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	var in input
	decoder := json.NewDecoder(os.Stdin)
	decoder.UseNumber() // integers stay integers, as the API server sends them
	if err := decoder.Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, "reading the input:", err)
		os.Exit(2)
	}
	out := make([]verdict, 0, len(in.Objects))
	for index, object := range in.Objects {
		normalized, err := normalize(object)
		if err != nil {
			fmt.Fprintf(os.Stderr, "object %d: %v\n", index, err)
			os.Exit(1)
		}
		result, err := status.Compute(&unstructured.Unstructured{Object: normalized})
		if err != nil {
			fmt.Fprintf(os.Stderr, "object %d: %v\n", index, err)
			os.Exit(1)
		}
		out = append(out, verdict{Status: result.Status.String(), Message: result.Message})
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "writing the output:", err)
		os.Exit(2)
	}
}

// normalize turns json.Number into int64 or float64, the types unstructured content holds.
func normalize(object map[string]interface{}) (map[string]interface{}, error) {
	converted, err := convert(object)
	if err != nil {
		return nil, err
	}
	return converted.(map[string]interface{}), nil
}

func convert(value interface{}) (interface{}, error) {
	switch typed := value.(type) {
	case map[string]interface{}:
		for key, item := range typed {
			converted, err := convert(item)
			if err != nil {
				return nil, err
			}
			typed[key] = converted
		}
		return typed, nil
	case []interface{}:
		for index, item := range typed {
			converted, err := convert(item)
			if err != nil {
				return nil, err
			}
			typed[index] = converted
		}
		return typed, nil
	case json.Number:
		if integer, err := typed.Int64(); err == nil {
			return integer, nil
		}
		return typed.Float64()
	default:
		return value, nil
	}
}
