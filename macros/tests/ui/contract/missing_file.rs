tacos_runtime::contract!(root = "contract-fixtures", files = ["shop/v1/missing.proto"]);

fn main() {}
