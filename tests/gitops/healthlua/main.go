// Command healthlua runs an Argo CD resource health script as Argo CD does: with gopher-lua,
// the resource as the global `obj` (JSON objects become tables, arrays become sequences), and
// the table the script returns read for `status` and `message`.
//
// Input on stdin: {"script": "<lua source>", "objects": [<resource>, ...]}.
// Output on stdout: [{"status": "...", "message": "..."}, ...], one per object.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	lua "github.com/yuin/gopher-lua"
)

type input struct {
	Script  string        `json:"script"`
	Objects []interface{} `json:"objects"`
}

type health struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func toLua(state *lua.LState, value interface{}) lua.LValue {
	switch typed := value.(type) {
	case map[string]interface{}:
		table := state.NewTable()
		for key, item := range typed {
			table.RawSetString(key, toLua(state, item))
		}
		return table
	case []interface{}:
		table := state.NewTable()
		for _, item := range typed {
			table.Append(toLua(state, item))
		}
		return table
	case string:
		return lua.LString(typed)
	case float64:
		return lua.LNumber(typed)
	case bool:
		return lua.LBool(typed)
	default:
		return lua.LNil
	}
}

// evaluate runs the script on one object in a fresh state with only the libraries Argo CD
// opens for health scripts (no io, no os).
func evaluate(script string, object interface{}) (health, error) {
	state := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer state.Close()
	for _, library := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
	} {
		state.Push(state.NewFunction(library.open))
		state.Push(lua.LString(library.name))
		state.Call(1, 0)
	}
	state.SetGlobal("obj", toLua(state, object))
	if err := state.DoString(script); err != nil {
		return health{}, err
	}
	returned, ok := state.Get(-1).(*lua.LTable)
	if !ok {
		return health{}, fmt.Errorf("the script returned %s, not a table", state.Get(-1).Type())
	}
	return health{
		Status:  lua.LVAsString(returned.RawGetString("status")),
		Message: lua.LVAsString(returned.RawGetString("message")),
	}, nil
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, "reading the input:", err)
		os.Exit(2)
	}
	out := make([]health, 0, len(in.Objects))
	for index, object := range in.Objects {
		result, err := evaluate(in.Script, object)
		if err != nil {
			fmt.Fprintf(os.Stderr, "object %d: %v\n", index, err)
			os.Exit(1)
		}
		out = append(out, result)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "writing the output:", err)
		os.Exit(2)
	}
}
