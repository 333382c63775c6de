tacos_runtime::contract!(root = "contract-fixtures", files = ["shop/v1/syntax.proto"]);

fn main() {}
