//! The contract side of the check: the descriptor set, and the one service the impl implements.

use std::path::Path;

use syn::LitStr;
use tacos_codegen::load::{LoadedContracts, LoadedFile};
use tacos_codegen::model::Contract;
pub(crate) use tacos_codegen::model::Streaming;
use tacos_codegen::rules::HttpRules;

use crate::names::{closest, message_type_name, nested_module_name};

/// What the checks and the expansion need to know about one service.
pub(crate) struct ServiceContract {
    /// `gateway.v1.QueueService`.
    pub(crate) full_name: String,
    /// The RPCs, in declaration order.
    pub(crate) rpcs: Vec<Rpc>,
}

/// One RPC of the service.
pub(crate) struct Rpc {
    /// The name in the contract, `JoinQueue`.
    pub(crate) name: String,
    /// The gRPC path, `/gateway.v1.QueueService/JoinQueue`: the key of the policy table.
    pub(crate) grpc_path: String,
    /// The request message.
    pub(crate) input: MessageName,
    /// The response message (of each stream item, for server streaming).
    pub(crate) output: MessageName,
    /// Which sides stream.
    pub(crate) streaming: Streaming,
}

/// How a message is named in Rust.
pub(crate) struct MessageName {
    /// The type's own name, which is what types are compared by (`Response`, or `()` for
    /// `google.protobuf.Empty`).
    pub(crate) rust_name: String,
    /// The path from the package module, for messages (`get_queue_stats::Response` for a
    /// message nested in `GetQueueStats`).
    pub(crate) rust_path: String,
}

impl MessageName {
    fn of(message: &prost_reflect::MessageDescriptor) -> Self {
        let rust_name = message_type_name(message.full_name());
        let mut modules = Vec::new();
        let mut parent = message.parent_message();
        while let Some(outer) = parent {
            modules.push(nested_module_name(outer.name()));
            parent = outer.parent_message();
        }
        modules.reverse();
        modules.push(rust_name.clone());
        Self {
            rust_path: modules.join("::"),
            rust_name,
        }
    }
}

/// Every service of a descriptor set.
pub(crate) struct Catalog {
    /// The services, by package, each package's in declaration order.
    pub(crate) services: Vec<ServiceContract>,
}

impl Catalog {
    /// Reads and decodes the set at `path`.
    pub(crate) fn load(path: &Path) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| {
            format!(
                "cannot read the descriptor set `{}`: {e}; run `cargo xtask generate` to write it, \
                 or point `descriptors` at it",
                path.display()
            )
        })?;
        let pool = prost_reflect::DescriptorPool::decode(bytes.as_slice()).map_err(|e| {
            format!(
                "`{}` is not a valid encoded descriptor set: {e}; regenerate it with `cargo xtask generate`",
                path.display()
            )
        })?;
        let services = services_of(&pool, bytes)
            .map_err(|message| format!("`{}` {message}", path.display()))?;
        Ok(Self { services })
    }

    /// Compiles every `.proto` file under `root`; returns the catalog and the files read.
    pub(crate) fn compile(root: &Path) -> Result<(Self, Vec<std::path::PathBuf>), String> {
        let loaded = tacos_codegen::load::load_contracts(&[root.to_owned()], &[])
            .map_err(|err| err.to_string())?;
        let services = services_of(&loaded.pool, loaded.encoded_set.clone())
            .map_err(|message| format!("`{}` {message}", root.display()))?;
        let sources = loaded.files.into_iter().filter_map(|f| f.path).collect();
        Ok((Self { services }, sources))
    }

    /// The service the impl implements: the one named by `contract`, else the one whose short
    /// name is the trait's last path segment.
    pub(crate) fn select(
        &self,
        contract: Option<&LitStr>,
        trait_path: &syn::Path,
    ) -> syn::Result<&ServiceContract> {
        let names = || self.services.iter().map(|s| s.full_name.as_str());
        if let Some(lit) = contract {
            let wanted = lit.value();
            return self
                .services
                .iter()
                .find(|s| s.full_name == wanted)
                .ok_or_else(|| {
                    let hint = match closest(&wanted, names()) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => self.listing(),
                    };
                    syn::Error::new_spanned(
                        lit,
                        format!("the contract has no service `{wanted}`: {hint}"),
                    )
                });
        }
        let segment = trait_path
            .segments
            .last()
            .expect("a trait path has a segment");
        let short = segment.ident.to_string();
        let found: Vec<&ServiceContract> = self
            .services
            .iter()
            .filter(|s| short_name(&s.full_name) == short)
            .collect();
        match found.as_slice() {
            [one] => Ok(one),
            [] => {
                let hint = match closest(&short, names().map(short_name)) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => self.listing(),
                };
                Err(syn::Error::new_spanned(
                    trait_path,
                    format!(
                        "the contract has no service named `{short}`: {hint} (or name the service with \
                         `#[service(contract = \"pkg.Service\")]`)"
                    ),
                ))
            }
            several => {
                let list: Vec<String> = several
                    .iter()
                    .map(|s| format!("`{}`", s.full_name))
                    .collect();
                Err(syn::Error::new_spanned(
                    trait_path,
                    format!(
                        "`{short}` names several services ({}): pick one with `#[service(contract = \"{}\")]`",
                        list.join(", "),
                        several[0].full_name
                    ),
                ))
            }
        }
    }

    fn listing(&self) -> String {
        if self.services.is_empty() {
            return "it has no services".to_owned();
        }
        let list: Vec<String> = self
            .services
            .iter()
            .map(|s| format!("`{}`", s.full_name))
            .collect();
        format!("it has {}", list.join(", "))
    }
}

/// The services of a decoded set, through the same contract model code generation uses.
fn services_of(
    pool: &prost_reflect::DescriptorPool,
    encoded_set: Vec<u8>,
) -> Result<Vec<ServiceContract>, String> {
    let files = pool
        .files()
        .map(|file| LoadedFile {
            name: file.name().to_owned(),
            // The model covers files from the contract tree, which a saved set no longer tells
            // apart from imports; taking every file is right, since only services matter here.
            path: Some(file.name().into()),
            requested: true,
        })
        .collect();
    let loaded = LoadedContracts {
        pool: pool.clone(),
        encoded_set,
        files,
    };
    let contract = Contract::build(&loaded, &HttpRules::none());
    let message = |full_name: &str| {
        pool.get_message_by_name(full_name)
            .map(|message| MessageName::of(&message))
            .ok_or_else(|| {
                format!(
                    "lacks the message `{full_name}`; regenerate it with `cargo xtask generate`"
                )
            })
    };
    let mut services = Vec::new();
    for service in contract.packages.iter().flat_map(|p| &p.services) {
        let mut rpcs = Vec::new();
        for method in &service.methods {
            rpcs.push(Rpc {
                grpc_path: format!("/{}/{}", service.full_name, method.name),
                name: method.name.clone(),
                input: message(&method.input_type)?,
                output: message(&method.output_type)?,
                streaming: method.streaming,
            });
        }
        services.push(ServiceContract {
            full_name: service.full_name.clone(),
            rpcs,
        });
    }
    Ok(services)
}

fn short_name(full_name: &str) -> &str {
    full_name.rsplit('.').next().unwrap_or(full_name)
}
