// Command etcd is the etcd server for the test control plane: the upstream binary's own main lives in a
// module with relative replaces, so this wrapper calls the server's entry point directly.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
